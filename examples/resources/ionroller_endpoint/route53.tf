# An HTTP service moved by Route 53 weighted records, as the original
# ION-Roller did: each version on the route holds a slot, an ALB of its own
# on whose listener the shifter adds a rule forwarding to the version's
# target group, and a weighted alias record of the name points at it. The
# listeners stay yours: their default action answers while no version
# holds the slot, and nothing needs ignore_changes. Traffic follows a weight change
# only as resolvers let go of cached answers (status.dns_ttl, 60s, or more).
resource "aws_lb_listener" "shop_slot" {
  count             = 4 # stable, new, and max_hot_versions = 2
  load_balancer_arn = aws_lb.shop_slot[count.index].arn
  protocol          = "HTTPS"
  port              = 443
  certificate_arn   = aws_acm_certificate.shop.arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      status_code  = "503"
    }
  }
}

resource "ionroller_endpoint" "shop" {
  name = "shop"
  team = "retail"

  traffic = {
    route53 = {
      hosted_zone_id = aws_route53_zone.example.zone_id
      name           = "shop.example.com"
      listeners      = aws_lb_listener.shop_slot[*].arn
    }
  }

  template = {
    repository     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop"
    container_port = 8080
    ami            = data.aws_ami.docker.id
    subnets        = aws_subnet.private[*].id
  }

  policy = {
    # Steps longer than the DNS TTL: a step is judged on traffic that
    # has had time to follow the records.
    steps = [
      { weight = 10, pause = "15m" },
      { weight = 50, pause = "15m" },
      { weight = 100 },
    ]
    alarms = ["shop-5xx"]
  }
}
