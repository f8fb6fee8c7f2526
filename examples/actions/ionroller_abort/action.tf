# terraform apply -invoke=action.ionroller_abort.web
action "ionroller_abort" "web" {
  config {
    endpoint = "web"
    reason   = "wrong build"
  }
}
