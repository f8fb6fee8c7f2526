# A service on ECS: every version is an ECS service of its own, with a task
# definition revision and a target group of IP targets (tasks run in awsvpc
# network mode, in the template's subnets and security groups). The cluster,
# the roles, the log group and the secrets are yours.
resource "ionroller_endpoint" "orders" {
  name = "orders-api"
  team = "orders"

  traffic = {
    listener_arn = aws_lb_listener.https.arn
    priority     = 110
    hosts        = ["orders.example.com"]
  }

  template = {
    backend          = "ecs"
    repository       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api"
    container_port   = 8080
    desired_capacity = 3 # tasks; an ecs template has no ami, instance_type or group sizes
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.orders.id] # lets the load balancer reach port 8080
    secrets = {
      # Native ECS secrets: ECS reads them with the execution role.
      DATABASE_URL = aws_secretsmanager_secret.orders_database_url.arn
    }
    health_check = {
      path = "/healthz"
    }

    ecs = {
      cluster = aws_ecs_cluster.apps.name
      # Fargate by default; or place the tasks on capacity providers:
      # capacity_providers = [{ name = "FARGATE_SPOT", weight = 3 }, { name = "FARGATE", weight = 1, base = 1 }]
      cpu                = 512
      memory             = 1024
      task_role_arn      = aws_iam_role.orders_task.arn
      execution_role_arn = aws_iam_role.orders_execution.arn
      logs = {
        group         = aws_cloudwatch_log_group.orders.name
        stream_prefix = "orders"
      }
      health_check = {
        command  = ["CMD-SHELL", "curl -f http://localhost:8080/healthz || exit 1"]
        interval = "30s"
        timeout  = "5s"
        retries  = 3
      }
    }
  }

  policy = {
    steps = [
      { weight = 10, pause = "5m" },
      { weight = 100 },
    ]
    alarms = [aws_cloudwatch_metric_alarm.orders_5xx.alarm_name]
  }
}
