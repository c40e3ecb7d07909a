"""A local chat-completions server for measuring `coach ask` without a model: it answers
a user question with a get_gamma_exposure(SPX) tool call, and the tool result with a
sentence built from the result's numbers (streamed as server-sent events).

Usage: python3 scripts/chat_completions_echo.py PORT
"""
import json, http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self,*a): pass
    def do_POST(self):
        body=json.loads(self.rfile.read(int(self.headers['content-length'])))
        msgs=body['messages']
        self.send_response(200); self.send_header('content-type','text/event-stream'); self.end_headers()
        def d(o): self.wfile.write(("data: "+json.dumps(o)+"\n\n").encode())
        if msgs[-1]['role']=='user':
            d({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"get_gamma_exposure","arguments":"{\"symbol\":\"SPX\"}"}}]}}]})
        else:
            r=json.loads(msgs[-1]['content']); f=r['zero_gamma_flip']
            d({"choices":[{"delta":{"content":"SPX flip %.2f; spot %.2f is %+.2f points (%+.2f %%) from it, %s." % (f['price'], r['spot'], f['spot_minus_flip'], f['spot_minus_flip_pct'], f['spot_is'])}}]})
        d({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}})
        self.wfile.write(b"data: [DONE]\n\n")
http.server.HTTPServer(('127.0.0.1',int(sys.argv[1])),H).serve_forever()
