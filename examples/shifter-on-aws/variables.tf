variable "region" {
  description = "The region of the shifter, its table and the endpoints' default."
  type        = string
}

variable "shifter_id" {
  description = "Names the fleet in the ionroller:shifter tag of everything it creates."
  type        = string
  default     = "prod"
}

variable "image" {
  description = "The shifter image in ECR (make image, pushed with crane or skopeo), by digest: ACCOUNT.dkr.ecr.REGION.amazonaws.com/ionroller/shifter@sha256:..."
  type        = string
}

variable "config_image" {
  description = "A small image with a shell that writes the configuration file for the shifter (its image has none)."
  type        = string
  default     = "public.ecr.aws/docker/library/busybox:1.37"
}

variable "vpc_id" {
  description = "The VPC of the load balancer and the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in two or more zones, with a route to the AWS APIs (NAT or VPC endpoints)."
  type        = list(string)
}

variable "client_cidr_blocks" {
  description = "Who may reach the shifter's API on 443: Terraform runners, operators."
  type        = list(string)
}

variable "certificate_arn" {
  description = "The ACM certificate of the shifter's name, for the load balancer's TLS listener."
  type        = string
}

variable "admin_token_sha256" {
  description = "The hex SHA-256 of the admin token Terraform uses (printf %s TOKEN | sha256sum)."
  type        = string
}

variable "instance_role_arns" {
  description = "The roles of the instance profiles the endpoints' launch templates name."
  type        = list(string)
  default     = []
}

variable "sns_topic_arns" {
  description = "The topics the shifter may notify."
  type        = list(string)
  default     = []
}

variable "alarm_topic_arns" {
  description = "Where the shifter's own alarms go."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "How long the shifter's logs are kept."
  type        = number
  default     = 30
}
