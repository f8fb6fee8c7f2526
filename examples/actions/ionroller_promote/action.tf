# terraform apply -invoke=action.ionroller_promote.web
action "ionroller_promote" "web" {
  config {
    endpoint = "web"
    reason   = "canary error rate flat for an hour"
  }
}

# Promote past the canary step every time the release changes: the apply
# declares the new version, waits for its canary step (wait_for = "healthy"),
# then promotes it and follows it to 100%.
resource "ionroller_release" "web" {
  endpoint = "web"
  version  = var.web_version

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.ionroller_promote.web]
    }
  }
}

variable "web_version" {
  type = string
}
