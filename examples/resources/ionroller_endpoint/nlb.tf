# A TCP service behind a Network Load Balancer. The load balancer is yours;
# the shifter creates the TCP listener on port 5432 itself, tagged as its own,
# and owns it: its default action is a weighted forward to each version's TCP
# target group (before the first version is healthy, to an idle target group
# of the shifter's, with no targets), and it is deleted with the endpoint.
# Declare no listener on that port: nothing needs ignore_changes.
resource "ionroller_endpoint" "ledger" {
  name = "ledger"
  team = "payments"

  traffic = {
    nlb = {
      load_balancer_arn = aws_lb.ledger.arn
      port              = 5432
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
