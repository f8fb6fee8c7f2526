# terraform apply -invoke=action.ionroller_pause.web
action "ionroller_pause" "web" {
  config {
    endpoint = "web"
    duration = "30m" # left out: paused until resumed
    reason   = "holding during the payments incident"
  }
}
