import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { AppError, FieldError } from './errors';

export interface ErrorBody {
  error: string;
  message: string;
  details: FieldError[];
}

const CODES: Record<number, string> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'unavailable',
};

const logger = new Logger('errors');

/** Every error, from the domain, Nest or Fastify, leaves in the one shape API.md defines. */
export function toErrorResponse(exception: unknown): { status: number; body: ErrorBody } {
  if (exception instanceof AppError) {
    return { status: exception.status, body: { error: exception.code, message: exception.message, details: exception.details } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message = typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? exception.message);
    return { status, body: { error: CODES[status] ?? 'error', message: sentence(status, message), details: [] } };
  }
  const fastifyStatus = (exception as { statusCode?: number })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    const message = fastifyStatus === 400 ? `the request body is not valid JSON: ${(exception as Error).message}` : (exception as Error).message;
    return { status: fastifyStatus, body: { error: CODES[fastifyStatus] ?? 'error', message: sentence(fastifyStatus, message), details: [] } };
  }
  logger.error((exception as Error)?.stack ?? String(exception));
  return { status: 500, body: { error: 'internal_error', message: 'something went wrong on our side; nothing was acknowledged', details: [] } };
}

function sentence(status: number, message: string): string {
  if (status === 413) return 'the request body is larger than this endpoint accepts';
  return message;
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, body } = toErrorResponse(exception);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
