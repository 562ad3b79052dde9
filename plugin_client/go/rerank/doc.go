// Package rerank is a client of the rerank.v1 reranking service.
//
//	client, err := rerank.NewClient("127.0.0.1:50051", rerank.WithTimeout(10*time.Second))
//	if err != nil { ... }
//	defer client.Close()
//	ranking, err := client.Rerank(ctx, rerank.Query{
//		Query:     "what is a panda?",
//		Documents: rerank.Texts("The giant panda is a bear.", "Paris is in France."),
//		TopN:      1,
//	})
//
// Every call has a deadline: the context's, or the client's default timeout
// when the context has none. A failed call returns an *Error carrying the gRPC
// status code; status.Code(err) works on it too. The generated messages and
// stubs are in package rerankpb/rerank/v1 for callers who need the raw contract.
package rerank
