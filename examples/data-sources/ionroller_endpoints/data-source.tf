data "ionroller_endpoints" "payments" {
  team = "payments"
}

# The traffic split of every endpoint of the team, by name.
output "payments_splits" {
  value = { for e in data.ionroller_endpoints.payments.endpoints : e.name => e.weights }
}
