# Terraform 1.14 and later: `terraform query` lists the production releases declared on team payments' endpoints.
list "ionroller_release" "payments" {
  provider = ionroller
  config {
    team  = "payments"
    track = "production"
    # name_prefix = "payments-"
  }
}
