/** shutdownGrpcServer stops a gRPC server gracefully, forcing it closed if its calls have not ended within `graceMs`. */
import type * as grpc from '@grpc/grpc-js';

export function shutdownGrpcServer(server: grpc.Server, graceMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
