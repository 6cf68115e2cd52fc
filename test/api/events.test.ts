import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Context } from 'aws-lambda';
import { handler as status } from '../../functions/status.ts';
import { handler as tenants } from '../../functions/tenants.ts';
import type { Event } from '../../lib/http/types.ts';
import { PROJECT_ROOT } from '../../lib/local/service.ts';
import { startTestService } from '../support/service.ts';

// The handlers called as Lambda calls them, with API Gateway HTTP API (payload 2.0)
// events as AWS sends them: a base64 body, and a path AWS has already decoded.
const service = await startTestService();
const fixture = (name: string): Event =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures', name), 'utf8'));
const context = { awsRequestId: 'lambda-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

describe('API Gateway payload 2.0 events', () => {
  it('a base64-encoded JSON body', async () => {
    const result = await tenants(fixture('create-tenant-base64.json'), context);
    assert.equal(result.statusCode, 201, result.body);
    const body = JSON.parse(result.body ?? '');
    assert.equal(body.tenantId, 'fixture');
    assert.equal(body.issuer, 'Fixture Hosting');
    assert.equal(
      result.headers?.['x-request-id'],
      'CxTm1jKLjoEEMxw=',
      "API Gateway's request id when the caller sent none",
    );
  });

  it('a path parameter that API Gateway delivered decoded', async () => {
    const admin = await service.client.tenant(service.operatorKey, 'events');
    const event = fixture('status-percent-encoded.json');
    event.headers.authorization = `Bearer ${admin}`;
    const result = await status(event, context);
    assert.equal(result.statusCode, 200, result.body);
    assert.equal(JSON.parse(result.body ?? '').userId, 'bob+tag@example.com');
    assert.equal(result.headers?.['x-request-id'], 'panel-req-42');
  });

  it('a base64 body that is not valid UTF-8 JSON is 400, not 500', async () => {
    const event = {
      ...fixture('create-tenant-base64.json'),
      body: Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'),
    };
    const result = await tenants(event, context);
    assert.equal(result.statusCode, 400);
    assert.equal(JSON.parse(result.body ?? '').error.code, 'invalid_request');
  });
});
