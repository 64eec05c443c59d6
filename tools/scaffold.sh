#!/usr/bin/env bash
# Creates a project folder: tools/scaffold.sh <apps|libs> <name> <tag> "<description>"
set -euo pipefail
kind=$1 name=$2 tag=$3 desc=$4
dir="$kind/$name"
mkdir -p "$dir/src"
pkg="@s2g/$name"; [ "$kind" = apps ] && pkg="@s2g/app-$name"
cat > "$dir/package.json" <<JSON
{
  "name": "$pkg",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "description": "$desc",
  "exports": { ".": "./src/index.ts" }
}
JSON
build=""
if [ "$kind" = apps ]; then
  build="\"build\": { \"executor\": \"nx:run-commands\", \"outputs\": [\"{workspaceRoot}/dist/apps/$name\"], \"options\": { \"command\": \"node tools/build-app.mjs $name\" } },"
  node -e "const p=require('./$dir/package.json');delete p.exports;p.main='./src/main.ts';require('fs').writeFileSync('$dir/package.json',JSON.stringify(p,null,2)+'\n')"
fi
cat > "$dir/project.json" <<JSON
{
  "name": "$name",
  "\$schema": "../../node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$dir/src",
  "projectType": "$([ "$kind" = apps ] && echo application || echo library)",
  "tags": ["$tag"],
  "targets": {
    $build
    "lint": { "executor": "nx:run-commands", "options": { "command": "eslint --max-warnings=0 $dir" } },
    "typecheck": { "executor": "nx:run-commands", "options": { "command": "tsc -p $dir/tsconfig.json" } },
    "test": { "executor": "nx:run-commands", "options": { "command": "vitest run --dir $dir" } }
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "include": ["src/**/*.ts", "test/**/*.ts", "bench/**/*.ts"]
}
JSON
