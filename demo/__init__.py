"""The demo: a sample ledger (示例数据) and a replayed quarter of the 乌拉特中旗 programme
driven through the real bot over HTTP, ending in the quarter's brief, notice draft and ledger."""
