import type { ServiceConfig, ServicesConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';

/**
 * Picks the service a command is about (`--service` may be left out when
 * services.yaml has exactly one service).
 * @throws AppError `command_unknown_service` / `command_service_required`, listing the known services
 */
export function resolveService(services: ServicesConfig, name: string | undefined): ServiceConfig {
  const names = [...services.services.keys()].sort();
  if (name === undefined) {
    if (names.length === 1) return services.services.get(names[0]!)!;
    throw new AppError({
      code: 'command_service_required',
      message: 'no --service given and several services are configured',
      userMessage: `Several services are configured; add \`--service NAME\`. Known services: ${names.map((n) => `\`${n}\``).join(', ')}.`,
    });
  }
  const svc = services.services.get(name);
  if (!svc) {
    throw new AppError({
      code: 'command_unknown_service',
      message: `unknown service ${JSON.stringify(name)}`,
      userMessage: `There is no service \`${name.slice(0, 60)}\` in services.yaml. Known services: ${names.map((n) => `\`${n}\``).join(', ')}.`,
    });
  }
  return svc;
}
