# tinnhiem in a container: the command line with what check, plan, evaluate, explain, diff, fmt and
# test need (no Hypothesis, no pygls: build with --build-arg EXTRAS=fuzz,lsp for fuzz and lsp).
#
#   docker build -t tinnhiem .
#   docker run --rm -v "$PWD:/work" tinnhiem check --format sarif --output tinnhiem.sarif policy/
#   docker run --rm -v "$PWD:/work" tinnhiem evaluate --roster roster.csv --tallies tallies.csv
#
# The working directory is /work (mount the repository there: reports then name files relative to it);
# add --user "$(id -u):$(id -g)" when the mounted folder is not writable by uid 1000 and --output is used.
FROM python:3.11-slim

ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

COPY pyproject.toml README.md LICENSE /src/
COPY dsl /src/dsl
COPY checker /src/checker
COPY policy /src/policy
COPY tinnhiem /src/tinnhiem
RUN pip install "/src${EXTRAS:+[$EXTRAS]}" && rm -rf /src \
    && useradd --create-home --uid 1000 tinnhiem

USER tinnhiem
WORKDIR /work
ENTRYPOINT ["tinnhiem"]
CMD ["--help"]
