package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.rerank.v1.RerankRequest;
import io.github.rerankservice.rerank.v1.RerankResponse;
import io.github.rerankservice.rerank.v1.RerankerGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A reranker on 127.0.0.1 and a free port: scores passage i with {@code (i + 1) / 10} (so it
 * reverses the search order), or fails with {@link #failWith}, or never answers while {@link
 * #hang} is set.
 */
final class FakeRerankServer implements AutoCloseable {
  final List<RerankRequest> received = new CopyOnWriteArrayList<>();
  volatile Status failWith;
  volatile boolean hang;
  private final Server server;

  FakeRerankServer() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new Service()).build().start();
  }

  String target() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
  }

  private final class Service extends RerankerGrpc.RerankerImplBase {
    @Override
    public void rerank(RerankRequest request, StreamObserver<RerankResponse> observer) {
      received.add(request);
      if (hang) {
        return;
      }
      if (failWith != null) {
        observer.onError(failWith.asRuntimeException());
        return;
      }
      RerankResponse.Builder response = RerankResponse.newBuilder();
      for (int i = request.getDocumentsCount() - 1; i >= 0; i--) {
        response.addResultsBuilder().setIndex(i).setScore((i + 1) / 10.0);
      }
      observer.onNext(response.build());
      observer.onCompleted();
    }
  }
}
