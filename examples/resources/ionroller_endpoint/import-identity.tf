# Terraform 1.12 and later: an import block names the endpoint by its identity.
import {
  to       = ionroller_endpoint.api
  identity = { name = "payments-api" }
}
