# A service whose TLS the Network Load Balancer terminates. The load balancer
# and the certificate are yours; the shifter creates the TLS listener on port
# 443 with them and owns it. Rotating the certificate is changing
# certificate_arn: the shifter puts the new one on the listener in one write.
resource "ionroller_endpoint" "gateway" {
  name = "gateway"
  team = "payments"

  traffic = {
    nlb = {
      load_balancer_arn = aws_lb.gateway.arn
      port              = 443
      protocol          = "TLS"
      certificate_arn   = aws_acm_certificate_validation.gateway.certificate_arn
      ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" # optional
    }
  }

  template = {
    repository     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/gateway"
    container_port = 8443
    ami            = data.aws_ami.docker.id
    subnets        = aws_subnet.private[*].id
    health_check = {
      protocol = "TLS" # or "TCP": plain connections from the load balancer to the targets
    }
  }

  policy = {
    steps = [
      { weight = 10, pause = "10m" },
      { weight = 100 },
    ]
    alarms = ["gateway-errors"]
  }
}
