# Terraform 1.14 and later: `terraform query` lists the endpoints of team payments.
list "ionroller_endpoint" "payments" {
  provider = ionroller
  config {
    team = "payments"
    # name_prefix = "payments-"
  }
}
