# The provider needs no shifter address for this data source: the configuration that creates the shifter's role
# can use it before any shifter runs.
data "ionroller_shifter_iam_policy" "shifter" {
  shifter_id         = "prod"
  region             = "eu-west-1"
  account_id         = "123456789012"
  dynamodb_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ionroller"
  instance_role_arns = ["arn:aws:iam::123456789012:role/payments-api"]
  sns_topic_arns     = ["arn:aws:sns:eu-west-1:123456789012:rollouts"]
}

resource "aws_iam_policy" "shifter" {
  name   = "ionroller-shifter"
  policy = data.ionroller_shifter_iam_policy.shifter.json
}

resource "aws_iam_role_policy_attachment" "shifter" {
  role       = "ionroller-shifter" # the role the shifter runs as: its ECS task role or EC2 instance profile's
  policy_arn = aws_iam_policy.shifter.arn
}
