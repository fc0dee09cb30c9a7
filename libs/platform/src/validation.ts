import { ValidationError } from 'class-validator';
import { FieldError, ValidationFailed } from './errors';

/** class-validator errors → the API's field-level details (nested fields joined with dots). */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    // A missing value fails whichever check runs first; "is required" is the sentence that helps.
    const missing = (e.value === undefined || e.value === null) && e.constraints && Object.keys(e.constraints).length > 0;
    const own = missing ? [{ field, message: `${field} is required` }] : Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...toFieldErrors(e.children ?? [], field)];
  });
}

export function validationFailed(errors: ValidationError[]): ValidationFailed {
  return new ValidationFailed('the request is invalid', toFieldErrors(errors));
}
