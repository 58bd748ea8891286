// Japanese messages (keys: en.ts). Same arguments and format specs as English.
import type { Dictionary } from './dictionary';

export const ja: Dictionary = {
  // Boot
  'boot.banner': '{0} {1} — x86-64 ベアメタル ハイパーバイザー',
  'boot.hint': 'コマンドの一覧は「help」と入力してください。',
  'boot.noSerial': 'COM1 にシリアルポートがありません。ファームウェアのコンソールのみを使います',
  'boot.serialDetached': 'ファームウェアの端末を {0} 個のシリアルポートから切り離しました',

  // Console
  'console.prompt': 'ゼロバイザー> ',
  'console.lineTooLong': '行が {0} 文字を超えているため無視しました。',
  'console.unknownCommand': '不明なコマンド「{0}」です。コマンドの一覧は「help」で表示できます。',
  'console.unknownCommandSuggest': '不明なコマンド「{0}」です。「{1}」のことですか？',
  'console.unexpectedArg': '{0}: 予期しない引数「{1}」があります。使い方: {2}',
  'console.missingArg': '{0}: 引数が足りません。使い方: {1}',
  'console.internalError': 'コマンド {0} で内部エラーが発生しました: {1}',
  'console.unexpectedException': '予期しない例外',
  'log.prefix': '[{0}] ',

  // help
  'help.header': 'コマンド一覧:',
  'help.row': '  {0,-8} {1}',
  'help.footer': '各コマンドの詳細は「help <コマンド>」で表示できます。',
  'help.usage': '使い方: {0}',
  'help.unknownTopic': '「{0}」のヘルプはありません。そのようなコマンドはありません。',
  'help.unknownTopicSuggest': '「{0}」のヘルプはありません。「{1}」のことですか？',

  // Command descriptions
  'cmd.help.usage': 'help [コマンド]',
  'cmd.help.desc': 'コマンドの一覧、または各コマンドの使い方を表示します',
  'cmd.help.details': '引数なしでは、すべてのコマンドを一行の説明付きで表示します。コマンド名を指定すると、その使い方と説明を表示します。',
  'cmd.version.usage': 'version',
  'cmd.version.desc': 'Zerovisor のバージョンとビルド情報を表示します',
  'cmd.version.details': '名前、バージョン、このビルドに使われたツールチェーンを表示します。',
  'cmd.lang.usage': 'lang [en|ja|zh]',
  'cmd.lang.desc': 'コンソールの言語を表示または変更します (en, ja, zh)',
  'cmd.lang.details': '引数なしでは現在の言語を表示します。en、ja、zh を指定すると、プロンプトとすべてのメッセージを英語、日本語、中国語に切り替えます。',
  'cmd.mem.usage': 'mem [alloc <pages> [4k|2m|1g] | free <address>]',
  'cmd.mem.desc': 'UEFI メモリマップとページアロケーターの状態を表示します',
  'cmd.mem.details': 'UEFI ファームウェアからメモリマップを読み取り、メモリタイプごとの 4 KiB ページ数と MiB、予約済み領域とメモリマップド I/O を除いた合計、最大の空き領域、続いてページアロケーターの状態を表示します。「mem alloc <pages> [4k|2m|1g]」はファームウェアからその境界でゼロ化したページを割り当て、「mem free <address>」は「mem alloc」が返したブロックを解放します。',
  'cmd.clear.usage': 'clear',
  'cmd.clear.desc': '画面を消去します',
  'cmd.clear.details': 'ファームウェアのコンソールとシリアル端末の画面を消去します。',
  'cmd.exit.usage': 'exit [コード]',
  'cmd.exit.desc': '終了コード (0〜255) を指定して Zerovisor を終了します',
  'cmd.exit.details': 'シリアルコンソールに ZEROVISOR-EXIT <コード> を出力します。QEMU ではそのコードで実行が終わり (isa-debug-exit)、実機ではファームウェアに戻ります。コードを省略すると 0 です。',

  // version
  'version.line': '{0} バージョン {1}',
  'version.build': 'ビルド環境: {0}',

  // lang
  'lang.name': '日本語',
  'lang.current': '現在の言語: {0} ({1})。選択肢: en (English)、ja (日本語)、zh (中文)。',
  'lang.changed': '言語を日本語に設定しました。',
  'lang.unknown': '不明な言語「{0}」です。選択肢: en、ja、zh。',

  // mem
  'mem.header': 'UEFI メモリマップ: 記述子 {0} 個',
  'mem.col.type': 'タイプ',
  'mem.col.pages': 'ページ数',
  'mem.col.mib': 'MiB',
  'mem.col.desc': '説明',
  'mem.row': '  {0,-26} {1,10} {2,10:f1}  {3}',
  'mem.totalLabel': '合計 (予約・MMIO を除く)',
  'mem.total': '  {0,-26} {1,10} {2,10:f1}',
  'mem.largestFree': '最大の空き領域: {0:f1} MiB ({1} ページ)、開始アドレス 0x{2:x8}{3:x8}',
  'mem.noFree': '空き (conventional) メモリは報告されていません。',
  'mem.empty': 'ファームウェアからメモリマップを取得できませんでした。',
  'mem.tooLarge': 'メモリマップには記述子が {0} 個あります。読み取れるのは最大 {1} 個です。',
  'mem.inconsistent': 'ファームウェアが矛盾したメモリマップを返しました',
  'mem.type.0': '予約済み (使用不可)',
  'mem.type.1': 'UEFI アプリケーションのコード',
  'mem.type.2': 'UEFI アプリケーションのデータ',
  'mem.type.3': 'ブートサービス ドライバーのコード',
  'mem.type.4': 'ブートサービス ドライバーのデータ',
  'mem.type.5': 'ランタイムサービス ドライバーのコード',
  'mem.type.6': 'ランタイムサービス ドライバーのデータ',
  'mem.type.7': '空きメモリ',
  'mem.type.8': 'エラーのあるメモリ',
  'mem.type.9': 'ACPI テーブル (回収可能)',
  'mem.type.10': 'ACPI ファームウェア用領域 (NVS)',
  'mem.type.11': 'メモリマップド I/O',
  'mem.type.12': 'メモリマップド I/O ポート空間',
  'mem.type.13': 'プロセッサー ファームウェア (PAL コード)',
  'mem.type.14': '不揮発性メモリ',
  'mem.type.15': '未受け入れのメモリ (機密 VM)',
  'mem.type.other': 'OEM または OS が定義したタイプ',
  'mem.type.otherName': '(その他のタイプ)',

  // exit
  'exit.badCode': 'exit: 「{0}」は終了コードではありません。0〜255 の数値を指定してください。',
  'exit.bye': '終了コード {0} で Zerovisor を終了します。',

  // startup.zv
  'script.running': '{0} を実行します ({1} バイト)',
  'script.errorAt': '{0} の {1} 行目: ',
  'script.finished': '{0} の実行が終わりました: 実行したコマンド {1} 件、失敗 {2} 件。',
  'script.tooLarge': '{0} は {1} バイトを超えるため実行しませんでした。',
  'script.readError': '{0} を読み込めませんでした (エラー {1})。',

  // Fatal
  'fatal.unexpected': 'コンソールで予期しない例外が発生しました: {0}',

};
