variable "shifter_token" {
  description = "Bearer token for the shifter's API."
  type        = string
  sensitive   = true
}

provider "ionroller" {
  address = "http://127.0.0.1:7070"
  token   = var.shifter_token
}
