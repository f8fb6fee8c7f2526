# terraform apply -invoke=action.ionroller_resume.web
action "ionroller_resume" "web" {
  config {
    endpoint = "web"
  }
}
