package io.github.rerankservice.client;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * The address of a running server for the live tests, from RERANK_ADDR. Without it the live
 * tests are skipped on a developer's machine and fail under CI (CI set), where a skip would hide
 * that they never ran; tests/integration/test_java_go_clients.py always sets it.
 */
final class LiveServer {
  private LiveServer() {}

  static String address() {
    String address = System.getenv("RERANK_ADDR");
    if (address == null || address.isBlank()) {
      String why = "RERANK_ADDR is not set: start a server and export RERANK_ADDR=host:port";
      if (System.getenv("CI") != null) {
        fail(why);
      }
      Assumptions.abort(why);
    }
    return address;
  }
}
