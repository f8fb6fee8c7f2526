package ec2env

import (
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }
