resource "ionroller_release" "api" {
  endpoint = ionroller_endpoint.api.name
  version  = "1.4.2" # runs payments-api:1.4.2 from the endpoint's repository

  # Return once the new version holds 100% of the traffic and has baked.
  wait_for = "complete"

  timeouts {
    create = "45m"
    update = "45m"
  }
}

# The preview track gets only the preview route: testing in production.
resource "ionroller_release" "api_preview" {
  endpoint = ionroller_endpoint.api.name
  track    = "preview"
  version  = "1.5.0-rc.1"

  # Done testing: `retired = true` takes the preview down (its route goes and its
  # environment expires) while the resource stays; deleting it does the same.
  retired = false
}

