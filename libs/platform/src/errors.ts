/** Typed errors the domain and adapters raise; the error filter maps them to the API's error shape. */
export interface FieldError {
  field: string;
  message: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly details: FieldError[] = [];
}

export class ValidationFailed extends AppError {
  readonly status = 400;
  readonly code = 'validation_failed';
  constructor(message: string, override readonly details: FieldError[] = []) {
    super(message);
  }
}

export class Unauthorized extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

export class Forbidden extends AppError {
  readonly status = 403;
  readonly code = 'forbidden';
}

export class NotFound extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class Conflict extends AppError {
  readonly status = 409;
  readonly code = 'conflict';
}

/** A business rule said no (422); `code` names the rule, e.g. below_minimum_payout. */
export class BusinessRuleViolation extends AppError {
  readonly status = 422;
  constructor(readonly code: string, message: string, override readonly details: FieldError[] = []) {
    super(message);
  }
}

/** The durable hand-off or a backend is down: never answer 202 in that case. */
export class Unavailable extends AppError {
  readonly status = 503;
  readonly code = 'unavailable';
}
