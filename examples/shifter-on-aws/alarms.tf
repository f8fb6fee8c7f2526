# What the alarms watch: that both replicas run and pass the load balancer's health check, that the API answers
# without 5xx, and that the shifter logs no errors (its JSON log, hclog's, has "@level":"error" on them). The shifter's Prometheus metrics stay on
# /metrics for a scraper (ADOT, Amazon Managed Prometheus); these need nothing beside the tasks.

resource "aws_cloudwatch_metric_alarm" "replicas_running" {
  alarm_name          = "${local.name}-replicas-running"
  alarm_description   = "Fewer than two shifter replicas run: one more failure stops every rollout."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = aws_ecs_cluster.shifter.name, ServiceName = aws_ecs_service.shifter.name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 2
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_replicas" {
  alarm_name          = "${local.name}-unhealthy-replicas"
  alarm_description   = "A shifter replica fails the load balancer's health check (GET /metrics)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.shifter.arn_suffix, TargetGroup = aws_lb_target_group.shifter.arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${local.name}-api-5xx"
  alarm_description   = "The shifter's API answers 5xx."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = aws_lb.shifter.arn_suffix, TargetGroup = aws_lb_target_group.shifter.arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arns
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "${local.name}-errors"
  log_group_name = aws_cloudwatch_log_group.shifter.name
  # A regular expression: .{3} is the `":"` between key and value, which a filter pattern cannot quote.
  pattern = "%@level.{3}error%"
  metric_transformation {
    name          = "ErrorLines"
    namespace     = "ionroller/shifter"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${local.name}-errors"
  alarm_description   = "The shifter logged errors: failed AWS actions, a store it cannot reach."
  namespace           = "ionroller/shifter"
  metric_name         = aws_cloudwatch_log_metric_filter.errors.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arns
}
