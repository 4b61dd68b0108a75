import { describe, expect, it } from 'vitest';
import { regionOfArn } from '../../../src/adapters/rds/rds-arn.js';

describe('the region of a snapshot ARN, for its console bookmark', () => {
  it('reads the fourth field of an ARN', () => {
    expect(regionOfArn('arn:aws:rds:eu-west-1:123456789012:snapshot:pre-rollback-x')).toBe('eu-west-1');
    expect(regionOfArn('arn:aws-us-gov:rds:us-gov-west-1:123456789012:cluster-snapshot:s')).toBe('us-gov-west-1');
  });
  it('gives null for no ARN or one without a region, so no bookmark is made', () => {
    expect(regionOfArn(undefined)).toBeNull();
    expect(regionOfArn('arn:aws:iam::123456789012:role/x')).toBeNull();
    expect(regionOfArn('not an arn')).toBeNull();
  });
});
