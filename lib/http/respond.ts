import type { Result } from './types.ts';

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

export const ok = (body: unknown) => json(200, body);
export const created = (body: unknown) => json(201, body);
export const accepted = (body: unknown) => json(202, body);
export const noContent = (): Result => ({ statusCode: 204, headers: {}, body: '' });

export const errorBody = (code: string, message: string) => ({ error: { code, message } });
