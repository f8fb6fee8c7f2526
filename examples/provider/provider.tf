# The address and token may also come from IONROLLER_ADDR and IONROLLER_TOKEN.
variable "shifter_token" {
  description = "Bearer token for the shifter's API."
  type        = string
  sensitive   = true
}

provider "ionroller" {
  address = "https://shifter.example.com:7070"
  token   = var.shifter_token
}
