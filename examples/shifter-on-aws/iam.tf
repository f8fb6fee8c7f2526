data "ionroller_shifter_iam_policy" "shifter" {
  shifter_id         = var.shifter_id
  region             = var.region
  account_id         = data.aws_caller_identity.current.account_id
  dynamodb_table_arn = aws_dynamodb_table.store.arn
  instance_role_arns = var.instance_role_arns
  sns_topic_arns     = var.sns_topic_arns
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# The task role: what the shifter itself may do on AWS.
resource "aws_iam_role" "task" {
  name               = "${local.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "task" {
  name   = "shifter"
  role   = aws_iam_role.task.id
  policy = data.ionroller_shifter_iam_policy.shifter.json
}

# The execution role: what ECS needs to start the tasks (pull the image, write logs, read the configuration).
resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_config" {
  statement {
    actions   = ["ssm:GetParameters"]
    resources = [aws_ssm_parameter.config.arn]
  }
}

resource "aws_iam_role_policy" "read_config" {
  name   = "read-shifter-config"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_config.json
}
