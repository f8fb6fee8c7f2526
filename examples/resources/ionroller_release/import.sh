# A release is imported as ENDPOINT/TRACK.
terraform import ionroller_release.api payments-api/production
