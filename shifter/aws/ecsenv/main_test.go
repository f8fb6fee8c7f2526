package ecsenv_test

import (
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }
