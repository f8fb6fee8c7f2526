resource "aws_ecs_cluster" "shifter" {
  name = local.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_security_group" "tasks" {
  name   = "${local.name}-tasks"
  vpc_id = var.vpc_id
  ingress {
    description     = "the API, from the load balancer only"
    from_port       = 7070
    to_port         = 7070
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  egress {
    description = "the AWS APIs"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

locals {
  # Each container's log streams in the one log group, under its own prefix.
  log_configuration = { for container in ["config", "shifter"] : container => {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.shifter.name
      awslogs-region        = var.region
      awslogs-stream-prefix = container
    }
  } }
}

resource "aws_ecs_task_definition" "shifter" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  # The image reads its configuration from a file: the config container writes it here, from the SSM parameter.
  volume {
    name = "config"
  }

  container_definitions = jsonencode([
    {
      name             = "config"
      image            = var.config_image
      essential        = false
      command          = ["sh", "-c", "printf '%s' \"$SHIFTER_CONFIG\" > /etc/ionroller/shifter.hcl && chmod 0444 /etc/ionroller/shifter.hcl"]
      secrets          = [{ name = "SHIFTER_CONFIG", valueFrom = aws_ssm_parameter.config.arn }]
      mountPoints      = [{ sourceVolume = "config", containerPath = "/etc/ionroller" }]
      logConfiguration = local.log_configuration["config"]
    },
    {
      name             = "shifter"
      image            = var.image
      essential        = true
      portMappings     = [{ containerPort = 7070, protocol = "tcp" }]
      mountPoints      = [{ sourceVolume = "config", containerPath = "/etc/ionroller", readOnly = true }]
      dependsOn        = [{ containerName = "config", condition = "SUCCESS" }]
      stopTimeout      = 30 # a replica that stops cleanly gives its leases up at once
      logConfiguration = local.log_configuration["shifter"]
    },
  ])
}

resource "aws_ecs_service" "shifter" {
  name            = "shifter"
  cluster         = aws_ecs_cluster.shifter.id
  task_definition = aws_ecs_task_definition.shifter.arn
  desired_count   = 2
  launch_type     = "FARGATE"
  # Replace one replica at a time: the other keeps every endpoint meanwhile.
  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 200

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.shifter.arn
    container_name   = "shifter"
    container_port   = 7070
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  depends_on = [aws_lb_listener.https]
}
