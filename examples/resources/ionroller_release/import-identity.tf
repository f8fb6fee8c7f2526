# Terraform 1.12 and later: an import block names the release by its identity.
import {
  to       = ionroller_release.api
  identity = { endpoint = "payments-api", track = "production" }
}
