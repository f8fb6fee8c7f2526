# terraform apply -invoke=action.ionroller_rollback.web
action "ionroller_rollback" "web" {
  config {
    endpoint = "web"
    version  = "v41" # left out: the version the last rollout replaced
    reason   = "latency up since v42"
  }
}
