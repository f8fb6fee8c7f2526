# The load balancer, listener, network, alarms and IAM roles belong to your
# own Terraform (the aws provider); the endpoint refers to them.
resource "ionroller_endpoint" "api" {
  name = "payments-api"
  team = "payments"

  traffic = {
    listener_arn = aws_lb_listener.https.arn
    priority     = 100
    hosts        = ["api.example.com"]

    # Testing in production: requests for this host go to the preview track.
    preview_host     = "preview.api.example.com"
    preview_priority = 101
  }

  template = {
    repository     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments-api"
    container_port = 8080
    env = {
      LOG_LEVEL = "info"
    }
    secrets = {
      DATABASE_URL = aws_ssm_parameter.database_url.arn
    }
    instance_type    = "t3.small"
    ami              = data.aws_ami.docker.id
    min_size         = 2
    max_size         = 6
    desired_capacity = 2
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.api.id]
    instance_profile = aws_iam_instance_profile.api.name
    health_check = {
      path = "/healthz"
    }
  }

  policy = {
    steps = [
      { weight = 10 }, # the canary: waits for `shifter promote`
      { weight = 50, pause = "10m" },
      { weight = 100 },
    ]
    alarms = [aws_cloudwatch_metric_alarm.api_5xx.alarm_name]
    metric_checks = {
      max_5xx_percent     = 1
      max_ratio_to_stable = 2
      min_requests        = 100
    }
    # Each step's pause begins once the requests ALB counted follow its weights.
    observed_traffic = {
      tolerance_percent = 5
      max_wait          = "5m"
    }
    bake_time       = "10m"
    retain_previous = "2h"
  }

  notifications = {
    webhook_url   = var.slack_webhook_url # sensitive: the URL carries its own secret
    sns_topic_arn = aws_sns_topic.deploys.arn
  }
}
