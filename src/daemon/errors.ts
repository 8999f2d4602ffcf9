/**
 * Errors that reach an API client. dockerd answers every failure with
 * `{"message": "..."}` and a status code; services throw ApiError and the
 * server turns it into exactly that, so the docker CLI prints our text as-is.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (msg: string) => new ApiError(400, msg);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);
export const notModified = () => new ApiError(304, '');
export const serverError = (msg: string) => new ApiError(500, msg);

export const noSuchContainer = (id: string) => notFound(`No such container: ${id}`);
export const noSuchImage = (ref: string) => notFound(`No such image: ${ref}`);
export const noSuchExec = (id: string) => notFound(`No such exec instance: ${id}`);

/** Message of any thrown value, for logs and 500 answers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
