package io.github.rerankservice.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Completes a {@link CompletableFuture} with the mapped answer of one unary call, or with a
 * {@link RerankException}; cancelling the future cancels the call.
 */
final class UnaryFuture<ReqT, RespT, T> implements ClientResponseObserver<ReqT, RespT> {
  private final CompletableFuture<T> future = new CompletableFuture<>();
  private final String method;
  private final Function<RespT, T> mapper;

  UnaryFuture(String method, Function<RespT, T> mapper) {
    this.method = method;
    this.mapper = mapper;
  }

  CompletableFuture<T> future() {
    return future;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<ReqT> call) {
    future.whenComplete(
        (value, error) -> {
          if (future.isCancelled()) {
            call.cancel("the caller cancelled the future", null);
          }
        });
  }

  @Override
  public void onNext(RespT response) {
    future.complete(mapper.apply(response));
  }

  @Override
  public void onError(Throwable error) {
    future.completeExceptionally(new RerankException(method, Status.fromThrowable(error), error));
  }

  @Override
  public void onCompleted() {
    // A unary call's answer came in onNext; nothing is left to do.
  }
}
