/** The region of an AWS ARN (`arn:aws:rds:eu-west-1:123456789012:snapshot:…` → `eu-west-1`), or null (AWS "Amazon Resource Names"). */
export function regionOfArn(arn: string | undefined): string | null {
  const region = arn?.split(':')[3];
  return region && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) ? region : null;
}
