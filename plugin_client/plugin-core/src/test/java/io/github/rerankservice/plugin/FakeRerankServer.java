package io.github.rerankservice.plugin;

import io.github.rerankservice.rerank.v1.GetModelInfoRequest;
import io.github.rerankservice.rerank.v1.GetModelInfoResponse;
import io.github.rerankservice.rerank.v1.RerankRequest;
import io.github.rerankservice.rerank.v1.RerankResponse;
import io.github.rerankservice.rerank.v1.RerankerGrpc;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Server;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reranker on 127.0.0.1 and a free port, over the same transport the plugin uses (Netty): it
 * scores passage i with {@code (i + 1) / 10} and answers best first (reversed passage order), or
 * fails with {@link #failWith}, or never answers while {@link #hang} is set. Shared with the engine
 * adapters' tests through this module's test jar.
 */
public final class FakeRerankServer implements AutoCloseable {
  public final List<RerankRequest> received = new CopyOnWriteArrayList<>();
  public final AtomicInteger connections = new AtomicInteger();
  public final CountDownLatch cancelled = new CountDownLatch(1);
  public volatile Status failWith;
  public volatile boolean hang;
  private final Server server;

  public FakeRerankServer() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new Service())
        .addTransportFilter(new ServerTransportFilter() {
          @Override
          public Attributes transportReady(Attributes attributes) {
            connections.incrementAndGet();
            return attributes;
          }
        })
        .build()
        .start();
  }

  public String target() {
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
        Context.current().addListener(context -> cancelled.countDown(), Runnable::run);
        return;
      }
      if (failWith != null) {
        observer.onError(failWith.asRuntimeException());
        return;
      }
      RerankResponse.Builder response = RerankResponse.newBuilder().setModel(request.getModel());
      for (int i = request.getDocumentsCount() - 1; i >= 0; i--) {
        response.addResultsBuilder().setIndex(i).setId(request.getDocuments(i).getId()).setScore((i + 1) / 10.0);
      }
      observer.onNext(response.build());
      observer.onCompleted();
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<GetModelInfoResponse> observer) {
      observer.onNext(GetModelInfoResponse.newBuilder().setDefaultModel("fake").build());
      observer.onCompleted();
    }
  }
}
