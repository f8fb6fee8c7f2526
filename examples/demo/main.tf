# The local demo's configuration: one endpoint and its production release,
# on the network examples/demo/network made in moto. run.sh copies it to a
# temporary directory and writes the variables next to it.

terraform {
  required_providers {
    ionroller = {
      source = "ionroller/ionroller"
    }
  }
}

variable "shifter_address" {
  description = "URL of the demo's shifter."
  type        = string
}

variable "listener_arn" {
  type = string
}

variable "subnets" {
  type = list(string)
}

variable "security_group" {
  type = string
}

variable "ami" {
  type = string
}

variable "cluster" {
  description = "The ECS cluster of the demo on ecs."
  type        = string
}

variable "backend" {
  description = "How the versions run: ec2 (an Auto Scaling group each) or ecs (an ECS service each)."
  type        = string
  default     = "ec2"
}

variable "release" {
  description = "The version to run: the line a deploy commit changes, and a rollback reverts."
  type        = string
}

provider "ionroller" {
  address = var.shifter_address
}

resource "ionroller_endpoint" "demo" {
  name                = "demo"
  team                = "demo"
  deletion_protection = false

  traffic = {
    listener_arn = var.listener_arn
    priority     = 10
    hosts        = ["demo.example.com"]
  }

  template = {
    backend              = var.backend
    repository           = "registry.example.com/demo"
    container_port       = 8080
    ami                  = var.backend == "ec2" ? var.ami : null
    ecs                  = var.backend == "ecs" ? { cluster = var.cluster } : null
    subnets              = var.subnets
    security_groups      = [var.security_group]
    deregistration_delay = "0s"
  }

  # Quick steps, so the demo shows them in seconds.
  policy = {
    steps = [
      { weight = 10, pause = "2s" },
      { weight = 50, pause = "2s" },
      { weight = 100 },
    ]
    bake_time       = "1s"
    retain_previous = "10m"
  }
}

resource "ionroller_release" "demo" {
  endpoint = ionroller_endpoint.demo.name
  version  = var.release
  wait_for = "complete"
}

output "release" {
  value = {
    version      = ionroller_release.demo.version
    image        = ionroller_release.demo.image
    state        = ionroller_release.demo.state
    live_version = ionroller_release.demo.live_version
  }
}
