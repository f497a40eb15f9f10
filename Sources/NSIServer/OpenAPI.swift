/// The API's OpenAPI description, served at /v1/openapi.yaml: the one source. docs/openapi.yaml
/// is written from it (`NSI_RECORD_GOLDEN=1 swift test --filter openAPIDescribesEveryRoute`),
/// and a test fails while the two differ.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: nsi model server
  version: 0.1.0
  description: |
    Runs verified nsi plans for clients on models the server hosts. Every route except
    /v1/health and /v1/openapi.yaml needs an API key (Authorization: Bearer KEY); /v1/metrics
    does unless the server runs with --public-metrics.
    Errors are JSON: {"error": {"code": "...", "message": "..."}}.
servers:
  - url: http://127.0.0.1:8080
security:
  - apiKey: []
paths:
  /v1/health:
    get:
      summary: Liveness, this process's worker id and the models it hosts.
      security: []
      responses:
        "200":
          description: The server is up.
          content:
            application/json:
              schema:
                type: object
                properties:
                  status: {type: string, enum: [ok]}
                  worker: {type: string}
                  models: {type: array, items: {type: string}}
  /v1/metrics:
    get:
      summary: Prometheus text format. Jobs by state, queue length, runs, batch sizes, requests. Needs a key unless the server runs with --public-metrics.
      responses:
        "200":
          description: Metrics.
          content:
            text/plain: {schema: {type: string}}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /v1/openapi.yaml:
    get:
      summary: This document.
      security: []
      responses:
        "200":
          description: The OpenAPI description.
          content:
            application/yaml: {schema: {type: string}}
  /v1/models:
    get:
      summary: The hosted models with their signatures (access points, shapes, callables, hash).
      responses:
        "200":
          description: The models.
          content:
            application/json:
              schema:
                type: object
                properties:
                  models: {type: array, items: {$ref: "#/components/schemas/Model"}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "429": {$ref: "#/components/responses/TooMany"}
  /v1/models/{name}:
    get:
      summary: One hosted model and its signature.
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: The model.
          content:
            application/json: {schema: {$ref: "#/components/schemas/Model"}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
  /v1/jobs:
    post:
      summary: Submit a script (its text) or a compiled plan (base64 .nsb bytes) for a hosted model.
      description: |
        A script is checked, optimized and compiled as `nsi compile` does, with params bound
        by the checker; a plan is decoded and verified against the model, with params bound
        as run-time params. Either is refused (422) before it is queued when it does not
        check or verify. The verified plan bytes are what the queue stores and runs.
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Submit"}
      responses:
        "202":
          description: Queued.
          headers:
            Location: {schema: {type: string}, description: /v1/jobs/{id}}
          content:
            application/json: {schema: {$ref: "#/components/schemas/Job"}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
        "422": {$ref: "#/components/responses/Error"}
        "429": {$ref: "#/components/responses/TooMany"}
  /v1/jobs/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      summary: A job's state, queue position (while queued), progress (while running), error.
      responses:
        "200":
          description: The job.
          content:
            application/json: {schema: {$ref: "#/components/schemas/Job"}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
    delete:
      summary: Cancel the job (same as POST /v1/jobs/{id}/cancel).
      responses:
        "200":
          description: The job after the cancel.
          content:
            application/json: {schema: {$ref: "#/components/schemas/Job"}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
  /v1/jobs/{id}/cancel:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    post:
      summary: Cancel. A queued job is cancelled at once; a running one when its batch stops or ends.
      responses:
        "200":
          description: The job after the cancel.
          content:
            application/json: {schema: {$ref: "#/components/schemas/Job"}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
  /v1/jobs/{id}/events:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      summary: Server-sent events. An `status` event (data is a Job) on every change of state, position or progress; the stream ends after a final state.
      responses:
        "200":
          description: The event stream.
          content:
            text/event-stream: {schema: {type: string}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "429": {$ref: "#/components/responses/TooMany"}
  /v1/jobs/{id}/results:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
      - {name: compress, in: query, required: false, schema: {type: string, enum: [zstd, none]}, description: "zstd: the body is a zstd frame (application/zstd)"}
    get:
      summary: The results as safetensors, the same bytes `nsi run --out` writes. With Accept-Encoding zstd the body is sent with Content-Encoding zstd.
      responses:
        "200":
          description: The results file.
          content:
            application/octet-stream: {schema: {type: string, format: binary}}
            application/zstd: {schema: {type: string, format: binary}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "410": {$ref: "#/components/responses/Error"}
  /v1/jobs/{id}/results.json:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      summary: The results' JSON sidecar (prompts, token ids, generated text, shapes, timings), as `nsi run` writes beside the results file.
      responses:
        "200":
          description: The sidecar.
          content:
            application/json: {schema: {type: object}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "410": {$ref: "#/components/responses/Error"}
components:
  securitySchemes:
    apiKey:
      type: http
      scheme: bearer
      description: A key made by `nsi keys create`; the server stores only its SHA-256.
  schemas:
    Submit:
      type: object
      properties:
        model: {type: string, description: "A hosted model's name; may be left out when the server hosts one."}
        script: {type: string, description: The script's text.}
        plan: {type: string, format: byte, description: "A plan from `nsi compile`, base64."}
        name: {type: string, description: The file name, for messages and the results' sidecar.}
        params: {type: object, additionalProperties: {type: string}}
    Job:
      type: object
      required: [id, model, name, state, created_at]
      properties:
        id: {type: string}
        model: {type: string}
        name: {type: string}
        state: {type: string, enum: [queued, running, completed, failed, cancelled]}
        position: {type: integer, description: "1 for the next job to run on its model; only while queued."}
        progress: {type: string, description: The VM's last progress line; only while running.}
        error: {type: string}
        error_kind: {type: string, description: "What kind of failure: plan, param, input, limit.<which> (limit.deadline, limit.register bytes, limit.saved bytes, limit.generated tokens, limit.instructions, limit.positions), internal or storage."}
        created_at: {type: string, format: date-time}
        started_at: {type: string, format: date-time}
        finished_at: {type: string, format: date-time}
        batch_size: {type: integer, description: Jobs in the batch this job ran in.}
        results: {type: string, description: "The results' path, once completed."}
        results_expired: {type: boolean}
        worker: {type: string, description: The server process that ran or runs the job.}
        attempts: {type: integer, description: How many times a server took the job (more than 1 after a server died running it).}
    Model:
      type: object
      properties:
        name: {type: string}
        signature_hash: {type: string}
        signature: {type: object, description: "What `nsi signature --json` prints."}
    Error:
      type: object
      properties:
        error:
          type: object
          properties:
            code: {type: string}
            message: {type: string}
  responses:
    Error:
      description: An error.
      content:
        application/json: {schema: {$ref: "#/components/schemas/Error"}}
    Unauthorized:
      description: The key is missing, unknown or revoked.
      content:
        application/json: {schema: {$ref: "#/components/schemas/Error"}}
    TooMany:
      description: Past the key's rate or quota; Retry-After says when to try again.
      headers:
        Retry-After: {schema: {type: integer}}
      content:
        application/json: {schema: {$ref: "#/components/schemas/Error"}}

"""#
}
