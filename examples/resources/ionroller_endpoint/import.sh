# An endpoint is imported by its name.
terraform import ionroller_endpoint.api payments-api
