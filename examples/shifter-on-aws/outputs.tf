output "address" {
  description = "The shifter's API behind the load balancer: give the ionroller provider https://NAME, NAME a DNS record (of the certificate) for this."
  value       = aws_lb.shifter.dns_name
}

output "dynamodb_table" {
  description = "The replicas' store."
  value       = aws_dynamodb_table.store.name
}
