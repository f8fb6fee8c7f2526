package awslike_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestLaunchTemplatesArePagedAsAWSPagesThem: moto answers a listing with its
// first MaxResults launch templates and no token, so a listing of a larger
// account would miss the rest; through the layer, the pages cover them all,
// and a filter still applies before paging.
func TestLaunchTemplatesArePagedAsAWSPagesThem(t *testing.T) {
	e := newEnv(t)
	setup := ec2.NewFromConfig(e.setup)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("lt-%d", i)
		_, err := setup.CreateLaunchTemplate(t.Context(), &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: aws.String(name),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-03cf127a")},
		})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}

	list := func(in *ec2.DescribeLaunchTemplatesInput) (names []string, pages int) {
		t.Helper()
		p := ec2.NewDescribeLaunchTemplatesPaginator(ec2.NewFromConfig(e.cfg), in)
		for p.HasMorePages() {
			out, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, lt := range out.LaunchTemplates {
				names = append(names, aws.ToString(lt.LaunchTemplateName))
			}
		}
		slices.Sort(names)
		return names, pages
	}
	if got, pages := list(&ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(3)}); !slices.Equal(got, want) || pages != 3 {
		t.Errorf("3 a page: %v in %d pages, want %v in 3", got, pages, want)
	}
	filtered := &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(1),
		Filters: []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: []string{"lt-2", "lt-5"}}}}
	if got, pages := list(filtered); !slices.Equal(got, []string{"lt-2", "lt-5"}) || pages != 2 {
		t.Errorf("filtered, 1 a page: %v in %d pages, want [lt-2 lt-5] in 2", got, pages)
	}
	if got, pages := list(&ec2.DescribeLaunchTemplatesInput{}); !slices.Equal(got, want) || pages != 1 {
		t.Errorf("no MaxResults: %v in %d pages, want all in 1", got, pages)
	}
}
