# The shifter on AWS: two replicas as an ECS Fargate service sharing a DynamoDB store, behind an internal ALB that
# terminates TLS, with their IAM role, logs and alarms. See README.md.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    ionroller = {
      source = "ionroller/ionroller"
    }
  }
}

provider "aws" {
  region = var.region
}

# The IAM policy data source needs no shifter address.
provider "ionroller" {}

data "aws_caller_identity" "current" {}

locals {
  name = "ionroller-shifter-${var.shifter_id}"
  # The replicas' shared configuration; each names itself by its host name (replica_id unset). TLS ends at the ALB,
  # and only the ALB's security group reaches the tasks' port.
  shifter_config = <<-HCL
    listen                = "0.0.0.0:7070"
    allow_insecure_listen = true
    shifter_id            = "${var.shifter_id}"

    store {
      dynamodb {
        table     = "${aws_dynamodb_table.store.name}"
        lease_ttl = "15s"
      }
    }

    aws {
      region = "${var.region}"
    }

    log {
      format = "json"
    }

    auth {
      token "terraform" {
        role   = "admin"
        sha256 = "${var.admin_token_sha256}"
      }
    }
  HCL
}

# The store: string keys pk and sk, on-demand, TTL on expire_at (docs/guides/high-availability.md).
resource "aws_dynamodb_table" "store" {
  name         = local.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  ttl {
    attribute_name = "expire_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = true
  }
}

# The configuration reaches the tasks as an SSM parameter: ECS hands it to the config container as a secret.
resource "aws_ssm_parameter" "config" {
  name  = "/${local.name}/shifter.hcl"
  type  = "SecureString"
  value = local.shifter_config
}

resource "aws_cloudwatch_log_group" "shifter" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
}
