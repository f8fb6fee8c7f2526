# A TCP service behind a Network Load Balancer: the shifter owns the
# listener's default action, a weighted forward to each version's TCP target
# group. The listener is yours; it forwards to an idle target group of yours
# until the first version is healthy, and again once the endpoint is deleted.
resource "aws_lb_target_group" "ledger_idle" {
  name     = "ledger-idle"
  protocol = "TCP"
  port     = 5432
  vpc_id   = aws_vpc.main.id
}

resource "aws_lb_listener" "ledger" {
  load_balancer_arn = aws_lb.ledger.arn
  protocol          = "TCP"
  port              = 5432

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.ledger_idle.arn
  }

  # The shifter's IAM policy lets it change only listeners tagged for it.
  tags = {
    "ionroller:shifter" = "prod"
  }

  # The shifter owns the default action from the first release on.
  lifecycle {
    ignore_changes = [default_action]
  }
}

resource "ionroller_endpoint" "ledger" {
  name = "ledger"
  team = "payments"

  traffic = {
    nlb = {
      listener_arn          = aws_lb_listener.ledger.arn
      idle_target_group_arn = aws_lb_target_group.ledger_idle.arn
    }
  }

  template = {
    repository     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ledger"
    container_port = 5432
    ami            = data.aws_ami.docker.id
    subnets        = aws_subnet.private[*].id
    health_check = {
      protocol = "TCP" # a TCP connection is the health check
    }
  }

  policy = {
    steps = [
      { weight = 10, pause = "10m" },
      { weight = 100 },
    ]
    alarms = ["ledger-errors"]
  }
}
