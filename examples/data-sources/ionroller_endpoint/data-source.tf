data "ionroller_endpoint" "api" {
  name = "payments-api"
}

output "api_live_version" {
  value = data.ionroller_endpoint.api.status.stable_version
}

output "api_traffic_split" {
  value = data.ionroller_endpoint.api.status.weights
}
