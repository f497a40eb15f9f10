// The nsi extension for VS Code: starts `nsi lsp` (the nsi language server, JSON-RPC
// over stdio) for .nsi files and restarts it when the `nsi.*` settings change.
// Plain CommonJS, no build step.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client = null;
let output = null;
let restarting = Promise.resolve();

/** The settings the server is started with. */
function readSettings() {
    const config = vscode.workspace.getConfiguration('nsi');
    const path = (config.get('path') || '').trim() || 'nsi';
    const model = (config.get('model') || '').trim();
    return { path, model };
}

function createClient(settings) {
    const env = Object.assign({}, process.env);
    if (settings.model) {
        env.NSI_MODEL = settings.model;
    }
    const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
    const executable = {
        command: settings.path,
        args: ['lsp'],
        transport: TransportKind.stdio,
        options: { env, cwd: folder ? folder.uri.fsPath : undefined },
    };
    const serverOptions = { run: executable, debug: executable };
    const clientOptions = {
        documentSelector: [
            { scheme: 'file', language: 'nsi' },
            { scheme: 'untitled', language: 'nsi' },
        ],
        // The server reads `model` here first, then NSI_MODEL, then the nearest nsi.toml.
        initializationOptions: settings.model ? { model: settings.model } : {},
        synchronize: {
            // A new or edited nsi.toml can change which model a script is checked against.
            fileEvents: vscode.workspace.createFileSystemWatcher('**/nsi.toml'),
        },
        outputChannel: output,
    };
    return new LanguageClient('nsi', 'nsi language server', serverOptions, clientOptions);
}

async function start() {
    const settings = readSettings();
    const next = createClient(settings);
    client = next;
    try {
        await next.start();
    } catch (error) {
        if (client === next) {
            client = null;
        }
        const message = error && error.message ? error.message : String(error);
        // Not awaited: a notification left open must not hold up the next restart.
        vscode.window
            .showErrorMessage(
                `Could not start the nsi language server (\`${settings.path} lsp\`): ${message}. ` +
                    'Set `nsi.path` to the nsi binary.',
                'Open Settings'
            )
            .then((choice) => {
                if (choice === 'Open Settings') {
                    vscode.commands.executeCommand('workbench.action.openSettings', 'nsi.path');
                }
            });
    }
}

async function stop() {
    const running = client;
    client = null;
    if (running) {
        try {
            await running.stop();
        } catch (error) {
            // A server that already exited (or never started) has nothing left to stop.
        }
    }
}

/** Restarts are chained so that two quick setting changes never run two servers. */
function restart() {
    restarting = restarting.then(stop).then(start);
    return restarting;
}

function activate(context) {
    output = vscode.window.createOutputChannel('nsi');
    context.subscriptions.push(output);
    context.subscriptions.push(vscode.commands.registerCommand('nsi.restartServer', restart));
    context.subscriptions.push(
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration('nsi.path') || event.affectsConfiguration('nsi.model')) {
                restart();
            }
        })
    );
    restarting = restarting.then(start);
    return restarting;
}

function deactivate() {
    return restarting.then(stop);
}

module.exports = { activate, deactivate };
