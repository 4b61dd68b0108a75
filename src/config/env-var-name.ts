import { z } from 'zod';

/** The name of an environment variable that holds a secret or a connection string (services.yaml `*_env` keys). */
export const EnvVarName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name like TICKET_DATABASE_URL');
